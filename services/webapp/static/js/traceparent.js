// W3C Trace Context: a new trace per API call, so nginx and the gateway log the page's trace id
// and the gateway's spans continue it. https://www.w3.org/TR/trace-context/#traceparent-header

function randomHex(bytes) {
  const values = crypto.getRandomValues(new Uint8Array(bytes));
  return Array.from(values, (b) => b.toString(16).padStart(2, "0")).join("");
}

function nonZeroHex(bytes) {
  let hex;
  do hex = randomHex(bytes);
  while (/^0+$/.test(hex)); // all-zero ids are invalid
  return hex;
}

/** "00-<trace id: 32 hex>-<parent id: 16 hex>-01" (sampled). */
export function newTraceparent() {
  return `00-${nonZeroHex(16)}-${nonZeroHex(8)}-01`;
}
