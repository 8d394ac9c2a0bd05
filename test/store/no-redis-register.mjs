// `node --import` this file to make any import of the Redis client throw (see no-redis-hooks.mjs).
import { register } from 'node:module';

register(new URL('./no-redis-hooks.mjs', import.meta.url));
