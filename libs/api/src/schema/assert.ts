/** `true` when `A` and `B` are the same type (optional modifiers included). */
export type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

/** Compile-time assertion: `type _Check = Assert<Equals<Declared, OutputOf<typeof schema>>>`. */
export type Assert<T extends true> = T;
