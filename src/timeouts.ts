/**
 * `work`'s outcome, or `timedOut()` thrown once `ms` have passed. The work itself is not
 * cancelled: use it where finishing late is harmless (an idempotent store, a read, a call
 * whose own deadline ends it too).
 */
export async function withTimeout<T>(ms: number, work: Promise<T>, timedOut: () => Error = () => new Error(`no answer within ${ms} ms`)): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(timedOut()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
