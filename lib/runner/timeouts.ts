/**
 * Small promise helpers: every await that talks to the kernel goes through one of
 * these so nothing can hang forever.
 */

/** Thrown when a bounded wait runs out of time. */
export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not finish within ${formatSeconds(ms)}`);
    this.name = "TimeoutError";
  }
}

/** Thrown when a wait is given up because its AbortSignal fired. */
export class AbortedError extends Error {
  constructor(what: string, reason?: unknown) {
    super(`${what} was aborted${reason instanceof Error ? `: ${reason.message}` : typeof reason === "string" ? `: ${reason}` : ""}`);
    this.name = "AbortedError";
  }
}

/** "1.2 s" style formatting used in messages and progress lines. */
export function formatSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
}

/** Resolve after `ms` milliseconds (the timer never keeps the process alive). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Await `promise`, rejecting with TimeoutError after `ms` and with AbortedError when `signal` fires. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string, signal?: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortedError(what, signal.reason));
      return;
    }
    const onAbort = (): void => finish(() => reject(new AbortedError(what, signal?.reason)));
    const timer = Number.isFinite(ms) ? setTimeout(() => finish(() => reject(new TimeoutError(what, ms))), ms) : null;
    let done = false;
    function finish(settle: () => void): void {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      settle();
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => finish(() => resolve(value)),
      (error: unknown) => finish(() => reject(error)),
    );
  });
}

/** A promise with its resolve/reject exposed. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
  settled: () => boolean;
}

/** Create a Deferred; rejections are marked handled so an unawaited one never crashes the process. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  let isSettled = false;
  const promise = new Promise<T>((res, rej) => {
    resolve = (value) => {
      isSettled = true;
      res(value);
    };
    reject = (error) => {
      isSettled = true;
      rej(error);
    };
  });
  promise.catch(() => undefined);
  return { promise, resolve, reject, settled: () => isSettled };
}

/** An AbortSignal that fires when any of `signals` fires (AbortSignal.any needs Node ≥ 20.3). */
export function anySignal(signals: ReadonlyArray<AbortSignal | undefined>): AbortSignal {
  const controller = new AbortController();
  for (const signal of signals) {
    if (!signal) continue;
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}
