/** Removes, in place, the leading entries of a time-ordered list that fall at or before `cutoff` (a sliding window's tail). */
export function dropUpTo<T>(list: T[], cutoff: number, timeOf: (entry: T) => number): void {
  let i = 0;
  while (i < list.length && timeOf(list[i]!) <= cutoff) i++;
  if (i > 0) list.splice(0, i);
}
