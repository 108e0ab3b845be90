import { useCallback, useRef } from 'react';

/**
 * Answers applied in the order they were asked for, not the order they arrive: wrap each
 * fetch of a refresh in the function this returns, and an answer settles only if no later
 * fetch was started through it since. Without it, switching from one conversation to
 * another while the first one's live refresh is in flight shows the first one's answer
 * under the second one's address (it arrives last and wins).
 *
 * A superseded answer never settles: its `then`, `catch` and `finally` never run, so it
 * neither overwrites newer data nor reports a stale error.
 */
export function useLatestOnly(): <T>(request: Promise<T>) => Promise<T> {
  const latest = useRef(0);
  return useCallback(<T>(request: Promise<T>) => {
    const asked = ++latest.current;
    return new Promise<T>((resolve, reject) => {
      request.then(
        (value) => {
          if (asked === latest.current) resolve(value);
        },
        (error: unknown) => {
          if (asked === latest.current) reject(error);
        },
      );
    });
  }, []);
}
