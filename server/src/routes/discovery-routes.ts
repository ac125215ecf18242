import type { FastifyInstance } from 'fastify';
import serverPackage from '../../package.json' with { type: 'json' };
import type { AppDeps } from '../app-deps.js';

/**
 * Where an agent given only the base URL starts: `GET /api` (a JSON index of everything) and
 * `GET /llms.txt` (a short plain-text guide). Both public: they describe the API, not a company.
 */
export function discoveryRoutes(deps: AppDeps) {
  return async (app: FastifyInstance) => {
    const kinds = [...deps.renderers.values()];
    const index = {
      name: 'Kiln',
      version: serverPackage.version,
      description: 'Renders images, charts, documents, speech and video as asynchronous jobs, and stores every output as an asset.',
      deploymentMode: deps.config.deploymentMode,
      authentication: deps.config.deploymentMode === 'authenticated' ? 'Authorization: Bearer <API key>' : 'none (local_trusted: loopback only)',
      defaultCompany: deps.defaultCompanyId
        ? { id: deps.defaultCompanyId, alias: 'default', url: `/api/companies/${deps.defaultCompanyId}` }
        : null,
      kinds: kinds.map((r) => r.kind),
      links: {
        docs: '/api/docs',
        openapi: '/api/openapi.json',
        guideForAgents: '/llms.txt',
        renderers: '/api/renderers',
        companies: '/api/companies',
        createJob: '/api/companies/{companyId}/content-jobs',
        uploadAsset: '/api/companies/{companyId}/assets',
        mcp: '/mcp',
        health: '/api/health',
        ready: '/api/ready',
      },
    };
    app.get('/api', { config: { public: true } }, async () => index);

    const guide = llmsGuide(deps);
    app.get('/llms.txt', { config: { public: true } }, async (_request, reply) =>
      reply.type('text/plain; charset=utf-8').header('x-content-type-options', 'nosniff').send(guide),
    );
  };
}

function llmsGuide(deps: AppDeps): string {
  const company = deps.defaultCompanyId ? 'default' : '{companyId}';
  const auth =
    deps.config.deploymentMode === 'authenticated'
      ? 'Send `Authorization: Bearer <API key>` on every request. `GET /api/companies` lists the company your key belongs to; use its id below.'
      : `No key is needed (local_trusted mode). The default company is ${deps.defaultCompanyId}; \`default\` works wherever a company id goes.`;
  const jobs = `/api/companies/${company}/content-jobs`;
  const kinds = [...deps.renderers.values()]
    .map((r) => `### ${r.kind}\n${r.description}\n\n    POST ${jobs}\n    ${JSON.stringify({ kind: r.kind, input: r.example })}\n`)
    .join('\n');
  return `# Kiln

> Kiln renders content — images, charts, documents, speech, video — as asynchronous jobs. You
> submit a job, it runs, and its output is stored as an asset you download by URL.

${auth}

## Do one thing, and get the result in one request

    POST ${jobs}
    Content-Type: application/json
    Prefer: wait=60

    {"kind": "image", "input": {"mode": "card", "title": "Hello"}}

With \`Prefer: wait=N\` (N ≤ 60 s) the answer is 200 with the finished job when it ends in time;
otherwise 202 with \`jobId\`. The finished job has \`output.url\` (the file; primary output first
in \`assets\`), \`outputs\` (all primaries), \`warnings\` (anything not rendered as written) and
\`error {code, message}\` when it failed. \`outputName\` in the body names the file.

## Wait or watch instead

- \`GET ${jobs}/{jobId}?wait=30\` answers when the job ends (or after 30 s, as it is then).
- \`GET ${jobs}/{jobId}/events\` streams Server-Sent Events (queued, running, progress, done/failed/canceled) and closes after the end.
- \`POST ${jobs}/{jobId}/cancel\` cancels.

## Bring your own files

    POST /api/companies/${company}/assets?filename=data.csv
    Content-Type: text/csv

    <the bytes>

answers 201 with the asset; use its \`id\` wherever an input takes an asset id (chart
\`dataAssetId\`, card \`logoAssetId\`/\`backgroundAssetId\`, document \`![alt](asset:<id>)\`, video
scenes and soundtrack). \`GET /api/companies/${company}/assets/{assetId}/lineage\` shows what an
asset was made from and what was made from it.

## Kinds (each input's full JSON Schema: GET /api/renderers)

${kinds}
## More

- Full reference: /api/docs (OpenAPI: /api/openapi.json). Every error is \`{"error": {"code", "message", "details"}}\`.
- MCP: streamable HTTP at /mcp, or \`kiln mcp\` over stdio.
`;
}
