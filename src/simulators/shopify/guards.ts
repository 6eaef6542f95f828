import { GraphQLError, getDirectiveValues, type GraphQLResolveInfo } from 'graphql';
import { canonicalJson } from '../../core/ids.js';
import type { SimContext } from './context.js';

/** Largest array Shopify accepts in an input argument. */
export const MAX_INPUT_ARRAY = 250;

/** Mutations on which Shopify requires `@idempotent(key:)` from 2026-04. */
export const IDEMPOTENT_MUTATIONS = new Set(['inventorySetQuantities', 'inventoryAdjustQuantities']);

/** Rejects any input array longer than 250 items, as Shopify does, with the path of the array. */
export function checkInputArrays(value: unknown, path: string[]): void {
  if (Array.isArray(value)) {
    if (value.length > MAX_INPUT_ARRAY) {
      throw new GraphQLError(`The input array size of ${value.length} is greater than the maximum allowed of ${MAX_INPUT_ARRAY}.`, {
        extensions: { code: 'MAX_INPUT_SIZE_EXCEEDED', path },
      });
    }
    value.forEach((v, i) => checkInputArrays(v, [...path, String(i)]));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) checkInputArrays(v, [...path, k]);
  }
}

/** The `@idempotent` key of the current field: required (and non-blank) on idempotent mutations, refused elsewhere. */
export function idempotencyKey(info: GraphQLResolveInfo): string | null {
  const directive = info.schema.getDirective('idempotent')!;
  const values = getDirectiveValues(directive, info.fieldNodes[0]!, info.variableValues) as { key?: string } | undefined;
  const supported = info.parentType.name === info.schema.getMutationType()?.name && IDEMPOTENT_MUTATIONS.has(info.fieldName);
  if (!values) {
    if (supported) {
      throw new GraphQLError('The @idempotent directive is required for this mutation but was not provided.', { extensions: { code: 'BAD_REQUEST' } });
    }
    return null;
  }
  if (!supported) {
    throw new GraphQLError(`The @idempotent directive is not supported on the field '${info.fieldName}'.`, { extensions: { code: 'BAD_REQUEST' } });
  }
  if (typeof values.key !== 'string' || values.key.trim() === '') {
    throw new GraphQLError('The idempotency key cannot be an empty string or whitespace only.', { extensions: { code: 'BAD_REQUEST' } });
  }
  return values.key;
}

/** The outcome of an idempotent mutation: a replay, a mismatch, or "run it". */
export type IdempotencyCheck = { kind: 'run' } | { kind: 'replay'; payload: unknown } | { kind: 'mismatch' };

/** Looks the key up: same field and parameters → replay; anything else under that key → mismatch. */
export function checkIdempotency(ctx: SimContext, key: string | null, field: string, args: unknown): IdempotencyCheck {
  if (key === null) return { kind: 'run' };
  const entry = ctx.sim.idempotent(key);
  if (!entry) return { kind: 'run' };
  return entry.field === field && entry.fingerprint === canonicalJson(args) ? { kind: 'replay', payload: entry.payload } : { kind: 'mismatch' };
}

/** Remembers the answer given under an idempotency key. */
export function rememberIdempotent(ctx: SimContext, key: string | null, field: string, args: unknown, payload: unknown): void {
  if (key !== null) ctx.sim.idempotency.set(key, { field, fingerprint: canonicalJson(args), payload, at: ctx.sim.clock.now() });
}

/** The user error Shopify returns when a key is reused with other parameters. */
export const MISMATCH_ERROR = {
  field: null, code: 'IDEMPOTENCY_KEY_PARAMETER_MISMATCH', message: 'The same idempotency key cannot be used with different operation parameters.',
};

/** A top-level error for a quantity input that omits `changeFromQuantity` (required since 2026-04, even if null). */
export function requireChangeFrom(rows: Record<string, unknown>[], inputType: string): void {
  if (rows.some((r) => !('changeFromQuantity' in r))) {
    throw new GraphQLError(`${inputType} must include the following argument: changeFromQuantity.`, { extensions: { code: 'INVALID_FIELD_ARGUMENTS' } });
  }
}

/** Whether a string is a plausible URI (`scheme:...`), as reference and ledger document URIs must be. */
export const isUri = (s: string): boolean => /^[a-z][a-z0-9+.-]*:\S+$/i.test(s);
