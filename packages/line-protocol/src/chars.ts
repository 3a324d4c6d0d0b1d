/** Character codes the scanner and the encoder compare against. */
export const TAB = 9;
export const CR = 13;
export const SPACE = 32;
export const QUOTE = 34;
export const HASH = 35;
export const COMMA = 44;
export const EQ = 61;
export const BACKSLASH = 92;
export const DEL = 127;
