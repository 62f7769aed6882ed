/** Catalogue cases (by title) the compiler refuses with a LoweringGap for now; see kernel-compat-golden.test.ts. */
export const NOT_LOWERED: ReadonlySet<string> = new Set<string>([]);
