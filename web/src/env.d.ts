/** Vite bundles the style sheet the entry imports. */
declare module '*.css';
