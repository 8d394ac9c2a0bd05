/**
 * The name the default account (the unset key) is shown with, and that `--account` accepts for
 * it. The same as the manager's DEFAULT_ACCOUNT_NAME, spelled out here so that the CLI's start-up
 * does not load the manager.
 */
export const DEFAULT_ACCOUNT_NAME = 'default';
