/** Everything a test started; test/setup.ts closes what a test forgot, after each file. */
export const leftovers: Array<() => Promise<void>> = [];
