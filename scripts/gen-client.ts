/**
 * `npm run gen:client`: writes src/client/schema.ts, the typed client's types, from the OpenAPI
 * document of the current routes (see client-schema.ts). Run it after changing a route or schema.
 */
import { writeFileSync } from 'node:fs';
import { generatedSchemaSource, SCHEMA_FILE } from './client-schema.js';

writeFileSync(SCHEMA_FILE, await generatedSchemaSource());
console.log(`wrote ${SCHEMA_FILE}`);
// The app's timers (event hub, caches) would keep the process up.
process.exit(0);
