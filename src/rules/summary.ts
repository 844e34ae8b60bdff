/**
 * A rule's summary template, read once at load: `$container`, `$rule`, `$1`…`$9` and `$<name>` (the match's
 * groups, each cut at 200 characters). A reference to a group the pattern does not have stays as written.
 */
export interface Summary {
  /** True when the template names a group (the match then needs captures, not only a yes/no). */
  readonly usesGroups: boolean;
  render(container: string, rule: string, group: (name: string) => string | undefined): string;
}

const REFERENCE = /\$(?:<([A-Za-z_][A-Za-z0-9_]*)>|(\d)|(container|rule))/g;

export function compileSummary(template: string): Summary {
  let usesGroups = false;
  for (const m of template.matchAll(REFERENCE)) if (m[3] === undefined) usesGroups = true;
  return {
    usesGroups,
    render: (container, rule, group) =>
      template.replace(REFERENCE, (whole, named: string | undefined, num: string | undefined, word: string | undefined) => {
        if (word === 'container') return container;
        if (word === 'rule') return rule;
        const v = group(named ?? num ?? '');
        return v === undefined ? whole : v.slice(0, 200);
      }),
  };
}
