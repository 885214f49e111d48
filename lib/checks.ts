/** Option checks shared across lib/ (no dependencies, so any module can import them). */

/** Check one positive integer option (a size, a count, an epoch number); the error names the function and the option. */
export function checkPositiveInteger(value: number, name: string, fn: string): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${fn}: ${name} must be a positive integer, got ${value}`);
}
