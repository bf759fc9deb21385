/** Loading an API answer into a component: the answer, the error, or still loading. */
import { useEffect, useState } from 'react';
import { ApiError } from './api.js';

/** What a load has come to. */
export type Loaded<T> =
  | { readonly state: 'loading' }
  | { readonly state: 'done'; readonly value: T }
  | { readonly state: 'failed'; readonly error: ApiError };

/**
 * Runs `load` whenever `deps` change (and every `refreshMs` if given), cancelling the previous one.
 * @returns the latest outcome; a refresh keeps showing the last answer until the new one arrives
 */
export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: readonly unknown[], refreshMs?: number): Loaded<T> {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    setLoaded({ state: 'loading' });
    const run = async (): Promise<void> => {
      try {
        const value = await load(controller.signal);
        if (!controller.signal.aborted) setLoaded({ state: 'done', value });
      } catch (e) {
        if (controller.signal.aborted) return;
        setLoaded({ state: 'failed', error: e instanceof ApiError ? e : new ApiError('UI_ERROR', (e as Error).message, 0) });
      }
      if (refreshMs !== undefined && !controller.signal.aborted) timer = setTimeout(() => { void run(); }, refreshMs);
    };
    void run();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
    // The caller names what the load depends on, as for useEffect.
  }, deps);
  return loaded;
}
