import { readFileSync } from 'node:fs';
import { fromPackageRoot } from '../shared/paths.js';

export const MODELFN_VERSION: string = (JSON.parse(readFileSync(fromPackageRoot('package.json'), 'utf8')) as { version: string }).version;
