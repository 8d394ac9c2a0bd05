/**
 * Host configuration files in each host's documented format, written into a temporary user home
 * and project folder (never the real ones): comments and trailing commas where the host allows
 * them (VS Code, Gemini CLI, Codex, Hermes), strict JSON where it does not. The servers each file
 * should contribute to an import, and why the others are skipped, are listed beside it.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** The fixture files, by a short key. */
export type FixtureFile =
  | 'claudeDesktop'
  | 'claudeCodeUser'
  | 'claudeCodeProject'
  | 'cursorUser'
  | 'cursorProject'
  | 'vscodeUser'
  | 'vscodeWorkspace'
  | 'windsurf'
  | 'codex'
  | 'gemini'
  | 'hermes';

export interface HostFixture {
  /** The fake user home (HOME) and project folder (--project). */
  userHome: string;
  project: string;
  /** The files written, by a short key. */
  files: Record<FixtureFile, string>;
  /** The environment a CLI run needs so that only these files are found. */
  env: Record<string, string | undefined>;
  cleanup(): Promise<void>;
}

/** The environment variables that move host locations: unset, so HOME decides (Linux layout). */
export const LOCATION_VARIABLES = {
  XDG_CONFIG_HOME: undefined,
  APPDATA: undefined,
  USERPROFILE: undefined,
  CODEX_HOME: undefined,
  HERMES_HOME: undefined,
  LINEAR_URL: undefined,
  API_BASE_URL: undefined,
};

export const CLAUDE_DESKTOP = `{
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"]
    },
    "asana": {
      "command": "npx",
      "args": ["-y", "mcp-remote", "https://mcp.asana.com/sse"]
    },
    "atlassian": {
      "command": "npx",
      "args": ["-y", "mcp-remote@0.1.13", "https://mcp.atlassian.com/v1/sse", "--header", "Authorization: Bearer \${AUTH_TOKEN}"],
      "env": { "AUTH_TOKEN": "planted-atlassian-token" }
    }
  }
}
`;

export const CLAUDE_CODE_USER = `{
  "numStartups": 12,
  "mcpServers": {
    "sentry": { "type": "http", "url": "https://mcp.sentry.dev/mcp" }
  },
  "projects": {
    "/work/app": {
      "allowedTools": [],
      "mcpServers": {
        "stripe": {
          "type": "http",
          "url": "https://mcp.stripe.com",
          "headers": { "Authorization": "Bearer planted-stripe-key" }
        }
      }
    }
  }
}
`;

export const CLAUDE_CODE_PROJECT = `{
  "mcpServers": {
    "paypal": { "type": "sse", "url": "https://mcp.paypal.com/sse" },
    "api": { "type": "http", "url": "\${API_BASE_URL:-https://api.example.com}/mcp" }
  }
}
`;

export const CURSOR_USER = `{
  "mcpServers": {
    "notion": { "url": "https://mcp.notion.com/mcp" },
    "local": { "command": "node", "args": ["server.js"] }
  }
}
`;

export const CURSOR_PROJECT = `{
  "mcpServers": {
    "linear": { "url": "\${env:LINEAR_URL}" }
  }
}
`;

export const VSCODE_USER = `// VS Code user MCP configuration
{
  "inputs": [
    { "type": "promptString", "id": "gh-token", "description": "GitHub token", "password": true },
  ],
  "servers": {
    /* GitHub's remote server */
    "github": {
      "type": "http",
      "url": "https://api.githubcopilot.com/mcp/",
      "headers": { "Authorization": "Bearer \${input:gh-token}" },
    },
    "perplexity": { "type": "stdio", "command": "npx", "args": ["-y", "server-perplexity-ask"] },
    "tenant": { "type": "http", "url": "https://\${input:tenant}.example.com/mcp" },
  },
}
`;

export const VSCODE_WORKSPACE = `{
  // the same Notion server as Cursor's
  "servers": {
    "notion-dup": { "type": "http", "url": "https://mcp.notion.com/mcp" },
  },
}
`;

export const WINDSURF = `{
  "mcpServers": {
    "figma": { "serverUrl": "https://mcp.figma.com/mcp" },
    "notion": { "serverUrl": "https://notion.other.example/mcp" }
  }
}
`;

export const CODEX = `# Codex configuration
model = "o3"

# a local server
[mcp_servers.context7]
command = "npx"
args = ["-y", "@upstash/context7-mcp"]

[mcp_servers.deepwiki]
url = "https://mcp.deepwiki.com/mcp" # streamable HTTP

# docs, with a token from the environment
[mcp_servers.docs]
url = "https://docs.example.com/mcp"
bearer_token_env_var = "DOCS_TOKEN"

[mcp_servers.docs.http_headers]
X-Team = "core"

# profiles come after
[profiles.fast]
model = "o4-mini"
`;

export const GEMINI = `{
  // Gemini CLI settings
  "theme": "Default",
  "mcpServers": {
    "cloudflare": { "httpUrl": "https://docs.mcp.cloudflare.com/mcp", "timeout": 30000 },
    "sse-one": { "url": "https://sse.example.com/sse" },
    "bad name!": { "httpUrl": "https://bad.example.com/mcp" },
  },
}
`;

export const HERMES = `# Hermes agent configuration
model: anthropic/claude-sonnet
mcp_servers:
  # Hugging Face over OAuth
  hf:
    url: https://huggingface.co/mcp
    auth: oauth
  local:
    command: python
    args: [server.py]
  insecure:
    url: http://example.com/mcp
`;

/** Every server the fixtures should add to an empty config.yaml, by name → URL. */
export const EXPECTED_IMPORT: Record<string, string> = {
  asana: 'https://mcp.asana.com/sse',
  atlassian: 'https://mcp.atlassian.com/v1/sse',
  sentry: 'https://mcp.sentry.dev/mcp',
  stripe: 'https://mcp.stripe.com',
  paypal: 'https://mcp.paypal.com/sse',
  api: 'https://api.example.com/mcp',
  notion: 'https://mcp.notion.com/mcp',
  github: 'https://api.githubcopilot.com/mcp/',
  figma: 'https://mcp.figma.com/mcp',
  deepwiki: 'https://mcp.deepwiki.com/mcp',
  docs: 'https://docs.example.com/mcp',
  cloudflare: 'https://docs.mcp.cloudflare.com/mcp',
  'sse-one': 'https://sse.example.com/sse',
  hf: 'https://huggingface.co/mcp',
};

/** Writes `text` at `path` (folders 0700, file 0600, as the hosts create them). */
export async function writeHostFile(path: string, text: string | Buffer): Promise<string> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

/** A user home and a project folder holding one file of every host format (Linux locations). */
export async function writeHostFixtures(): Promise<HostFixture> {
  const root = await mkdtemp(join(tmpdir(), 'mcp-oauth-hosts-'));
  const userHome = join(root, 'user');
  const project = join(root, 'project');
  const files: Record<FixtureFile, string> = {
    claudeDesktop: join(userHome, '.config', 'Claude', 'claude_desktop_config.json'),
    claudeCodeUser: join(userHome, '.claude.json'),
    claudeCodeProject: join(project, '.mcp.json'),
    cursorUser: join(userHome, '.cursor', 'mcp.json'),
    cursorProject: join(project, '.cursor', 'mcp.json'),
    vscodeUser: join(userHome, '.config', 'Code', 'User', 'mcp.json'),
    vscodeWorkspace: join(project, '.vscode', 'mcp.json'),
    windsurf: join(userHome, '.codeium', 'windsurf', 'mcp_config.json'),
    codex: join(userHome, '.codex', 'config.toml'),
    gemini: join(userHome, '.gemini', 'settings.json'),
    hermes: join(userHome, '.hermes', 'config.yaml'),
  };
  const texts: Record<FixtureFile, string> = {
    claudeDesktop: CLAUDE_DESKTOP,
    claudeCodeUser: CLAUDE_CODE_USER,
    claudeCodeProject: CLAUDE_CODE_PROJECT,
    cursorUser: CURSOR_USER,
    cursorProject: CURSOR_PROJECT,
    vscodeUser: VSCODE_USER,
    vscodeWorkspace: VSCODE_WORKSPACE,
    windsurf: WINDSURF,
    codex: CODEX,
    gemini: GEMINI,
    hermes: HERMES,
  };
  for (const key of Object.keys(files) as FixtureFile[]) await writeHostFile(files[key], texts[key]);
  return {
    userHome,
    project,
    files,
    env: { ...LOCATION_VARIABLES, HOME: userHome },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
