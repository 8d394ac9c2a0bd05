// `node --import ./import-recorder.mjs ...`: records the bare specifiers the process resolves.
import { register } from 'node:module';

register('./import-recorder-hooks.mjs', import.meta.url);
