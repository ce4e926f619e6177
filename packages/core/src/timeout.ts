import { TimedOut } from '@doorman/plugin-api';

/** Rejects with `message` when `promise` has not settled within `ms` (the promise itself runs on). */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new TimedOut(message)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}
