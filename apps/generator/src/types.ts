/** Catalog shapes the generator works with, owned by the POP catalog package. */
export type { FunctionSpec, PopInfo } from '@edgeworker/pops';
