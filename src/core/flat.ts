/**
 * Strings kept for the life of the process (keys, ids) are built with `flat`, not a template literal: V8 makes a
 * template's result a cons string (a pair of pointers to its parts), which the first Map lookup flattens into a
 * second string while the cons stays, ~32 B more per key; a join allocates the flat string at once. At 100,000
 * markets that is several MB across the keys and token ids every agent keeps.
 */
export const flat = (...parts: readonly (string | number)[]): string => parts.join('');

/**
 * `s` in one piece, for a text built from a template whose parts are not known up front: a cons string is a tree of
 * its pieces (2–3× the flat size) until something reads it by index, which flattens it in place (the listing texts
 * of 100,000 markets are kept by the decoders and in every Market message for as long as the market is known).
 */
export function flatten(s: string): string {
  s.charCodeAt(0);
  return s;
}
