/** Mounts the UI. */
// First: the ledger modules the UI runs (receipt checks) find a Buffer when they load.
import './platform/buffer-global.js';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import './styles.css';

const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root element');
createRoot(root).render(<StrictMode><App /></StrictMode>);
