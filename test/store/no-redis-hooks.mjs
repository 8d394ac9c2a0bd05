// Module resolution hooks for redis-entry.test.ts: importing the Redis client fails loudly.
export async function resolve(specifier, context, next) {
  if (specifier === 'redis' || specifier.startsWith('@redis/')) {
    throw new Error(`the Redis client was loaded (${specifier}) from ${context.parentURL}`);
  }
  return next(specifier, context);
}
