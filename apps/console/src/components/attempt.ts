import { useState } from 'preact/hooks';

/**
 * A form action's outcome: `attempt(f, reload)` runs `f`, then `reload`s the lists it changed, or
 * keeps the API's problem to show; the next attempt clears it.
 */
export function useAttempt(): {
  error: unknown;
  attempt(f: () => Promise<unknown>, reload: () => void): Promise<void>;
} {
  const [error, setError] = useState<unknown>();
  const attempt = async (f: () => Promise<unknown>, reload: () => void) => {
    setError(undefined);
    try {
      await f();
      reload();
    } catch (err) {
      setError(err);
    }
  };
  return { error, attempt };
}
