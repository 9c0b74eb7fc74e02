// Poll a task every `intervalMs`; after failures, wait longer (doubling, up to `maxDelayMs`).

export function startPolling({ task, intervalMs, maxDelayMs, onSuccess, onFailure }) {
  let failures = 0;
  let timer = null;

  async function tick() {
    timer = null;
    let result;
    try {
      result = await task();
    } catch (error) {
      failures += 1;
      const delay = Math.min(intervalMs * 2 ** failures, maxDelayMs);
      schedule(delay);
      onFailure(error, { failures, retryInMs: delay });
      return;
    }
    failures = 0;
    schedule(intervalMs);
    onSuccess(result);
  }

  function schedule(ms) {
    timer = setTimeout(tick, ms);
  }

  tick();
  return {
    /** Try again at once (the banner's "Retry now"). */
    now() {
      if (timer === null) return; // a call is under way
      clearTimeout(timer);
      tick();
    },
  };
}
