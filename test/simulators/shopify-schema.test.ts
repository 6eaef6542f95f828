import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import {
  buildClientSchema, buildSchema, isEnumType, isInputObjectType, isInterfaceType, isNonNullType, isObjectType, isScalarType,
  isUnionType, parse, validate, type GraphQLArgument, type GraphQLInputField, type GraphQLSchema, type IntrospectionQuery,
} from 'graphql';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const sdlPath = join(repoRoot, 'src', 'simulators', 'shopify', 'schema.graphql');
const realPath = join(repoRoot, '..', 'shared', 'shopify-admin-schemas', 'admin_schema_2026-04.json.gz');
const mandatory = (a: GraphQLArgument | GraphQLInputField) => isNonNullType(a.type) && a.defaultValue === undefined;

/** Every difference between the subset and the real schema, as readable lines. */
function subsetProblems(sub: GraphQLSchema, real: GraphQLSchema): string[] {
  const out: string[] = [];
  if (sub.getQueryType()?.name !== real.getQueryType()?.name) out.push('query root name differs');
  if (sub.getMutationType()?.name !== real.getMutationType()?.name) out.push('mutation root name differs');
  for (const [name, t] of Object.entries(sub.getTypeMap())) {
    if (name.startsWith('__')) continue;
    const r = real.getType(name);
    if (!r) { out.push(`type ${name} is not in the real schema`); continue; }
    if (r.constructor !== t.constructor) { out.push(`type ${name} is a different kind`); continue; }
    if (isEnumType(t) && isEnumType(r)) {
      for (const v of t.getValues()) if (!r.getValue(v.name)) out.push(`enum value ${name}.${v.name} is not real`);
    } else if (isUnionType(t) && isUnionType(r)) {
      for (const m of t.getTypes()) if (!r.getTypes().some((x) => x.name === m.name)) out.push(`union member ${name}.${m.name} is not real`);
    } else if ((isObjectType(t) && isObjectType(r)) || (isInterfaceType(t) && isInterfaceType(r))) {
      for (const i of t.getInterfaces()) if (!r.getInterfaces().some((x) => x.name === i.name)) out.push(`${name} implements ${i.name} only here`);
      const rf = r.getFields();
      for (const f of Object.values(t.getFields())) {
        const real = rf[f.name];
        if (!real) { out.push(`field ${name}.${f.name} is not real`); continue; }
        if (String(real.type) !== String(f.type)) out.push(`field ${name}.${f.name}: ${String(f.type)} here, ${String(real.type)} at Shopify`);
        for (const a of f.args) {
          const ra = real.args.find((x) => x.name === a.name);
          if (!ra) out.push(`argument ${name}.${f.name}(${a.name}) is not real`);
          else if (String(ra.type) !== String(a.type)) out.push(`argument ${name}.${f.name}(${a.name}) type differs`);
        }
        for (const ra of real.args) if (mandatory(ra) && !f.args.some((a) => a.name === ra.name)) out.push(`required argument ${name}.${f.name}(${ra.name}) is missing`);
      }
    } else if (isInputObjectType(t) && isInputObjectType(r)) {
      const rf = r.getFields();
      for (const f of Object.values(t.getFields())) {
        if (!rf[f.name]) out.push(`input field ${name}.${f.name} is not real`);
        else if (String(rf[f.name]!.type) !== String(f.type)) out.push(`input field ${name}.${f.name} type differs`);
      }
      for (const f of Object.values(rf)) if (mandatory(f) && !t.getFields()[f.name]) out.push(`required input field ${name}.${f.name} is missing`);
    } else if (!isScalarType(t)) {
      out.push(`type ${name} has an unexpected kind`);
    }
  }
  for (const d of sub.getDirectives()) {
    const rd = real.getDirective(d.name);
    if (!rd) { out.push(`directive @${d.name} is not real`); continue; }
    for (const a of d.args) if (String(rd.args.find((x) => x.name === a.name)?.type) !== String(a.type)) out.push(`directive @${d.name}(${a.name}) differs`);
  }
  return out;
}

function graphqlDocuments(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...graphqlDocuments(p));
    else if (name.endsWith('.graphql') && !/schema/i.test(name)) out.push(p);
  }
  return out;
}

describe('Shopify schema subset', () => {
  const sub = buildSchema(readFileSync(sdlPath, 'utf8'));

  it('is a strict subset of Shopify\'s real 2026-04 Admin schema', function () {
    if (!existsSync(realPath)) {
      console.warn(`  skipped: Shopify's published schema not found at ${realPath} (it lives in ../shared/, outside the repo)`);
      this.skip();
    }
    const real = buildClientSchema((JSON.parse(gunzipSync(readFileSync(realPath)).toString('utf8')) as { data: IntrospectionQuery }).data);
    assert.deepEqual(subsetProblems(sub, real), []);
  });

  it('declares the @idempotent(key: String!) directive', () => {
    assert.equal(String(sub.getDirective('idempotent')?.args[0]?.type), 'String!');
  });

  it('validates every .graphql document under src/ against the subset', () => {
    const problems: string[] = [];
    for (const file of graphqlDocuments(join(repoRoot, 'src'))) {
      const errors = validate(sub, parse(readFileSync(file, 'utf8')));
      for (const e of errors) problems.push(`${relative(repoRoot, file)}: ${e.message}`);
    }
    assert.deepEqual(problems, []);
  });
});
