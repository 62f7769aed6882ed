/** Deterministic PRNG for seeded test inputs, so a failure reproduces from its seed: the one the mutation fuzzer uses. */
export { seededRandom as seeded } from '../../src/verifier/mutate.js';
