import type { CatalogPlan } from '../services/catalog/index.js';

/** A plan as `terraform plan` shows one: `+` create, `~` update, `-` archive, `!` not done. */
export function renderPlan(plan: CatalogPlan): string {
  const lines: string[] = [`Product master: ${plan.master} (${plan.products} products)`];
  let creates = 0;
  let updates = 0;
  let archives = 0;
  for (const c of plan.channels) {
    lines.push('', `${c.channel}:`);
    for (const p of c.create) lines.push(`  + create ${p.key} "${p.title}" (${p.skus.length} variant${p.skus.length === 1 ? '' : 's'}: ${p.skus.join(', ')})${c.unsupported.includes(p.key) ? '  [not created: this platform does not create listings yet]' : ''}`);
    for (const u of c.update) lines.push(`  ~ update ${u.sku} ${u.field}: ${JSON.stringify(u.from)} -> ${JSON.stringify(u.to)}  (synced by the engine's field policies)`);
    for (const a of c.archive) lines.push(`  - archive ${a.sku} (${a.key}, now ${a.status ?? 'unknown'})`);
    for (const i of c.incomplete) lines.push(`  ! incomplete ${i.key}: missing ${i.missing.join(', ')} (adding variants to an existing product is not done yet)`);
    if (c.create.length + c.update.length + c.archive.length + c.incomplete.length === 0) lines.push('  no changes');
    creates += c.create.length - c.unsupported.length;
    updates += c.update.length;
    archives += c.archive.length;
  }
  lines.push('', `Plan: ${creates} to create, ${updates} to update, ${archives} to archive.`);
  return lines.join('\n');
}
