/**
 * src/client/schema.ts is what openapi-typescript makes of the document GET /openapi.json serves now:
 * a route or schema changed without regenerating it fails here, naming the command that fixes it.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generatedSchemaSource, REGENERATE_COMMAND, SCHEMA_FILE } from '../../scripts/client-schema.js';

describe('pet-life/client generated types', () => {
  it('are those of the current OpenAPI document', async () => {
    const expected = await generatedSchemaSource();
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    expect(expected).toContain('"/api/pet/{device_id}/interact"');
    if (committed !== expected) {
      const a = committed.split('\n');
      const b = expected.split('\n');
      const line = a.findIndex((text, index) => text !== b[index]);
      expect.fail(
        `src/client/schema.ts differs from the current OpenAPI document (first at line ${line + 1}: ` +
          `${JSON.stringify(a[line])} should be ${JSON.stringify(b[line])}): run \`${REGENERATE_COMMAND}\` and commit the file`,
      );
    }
  }, 60_000);
});
