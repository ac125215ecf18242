import type { Renderer } from '@kiln/renderers';
import { createOutboundGuard, type HostResolver, type OutboundGuard } from '../services/webhooks/outbound-guard.js';
import type { AddressClass } from '../services/webhooks/ip-address-class.js';
import { PROVIDER_KINDS, type ProviderConfig, type ProviderKind } from './provider-config.js';
import { createOpenAiClient } from './openai-client.js';
import { createProviderLimiter } from './provider-limiter.js';
import type { ProviderHandle } from './provider-kind-base.js';
import { aiImageKind } from './ai-image-kind.js';
import { aiSpeechKind } from './ai-speech-kind.js';
import { aiVideoKind } from './ai-video-kind.js';

export interface ProviderKindsOptions {
  /**
   * Vets URLs a provider answers with on another origin than its baseUrl. Default: public
   * addresses only (a provider's answer must not steer Kiln to its own network or a metadata
   * service). Tests pass a resolver and classifier instead.
   */
  guard?: OutboundGuard;
  resolve?: HostResolver;
  classify?: (address: string) => AddressClass;
}

const BUILDERS: Record<ProviderKind, (serving: ProviderHandle[]) => Renderer<any>> = {
  'ai-image': aiImageKind,
  'ai-speech': aiSpeechKind,
  'ai-video': aiVideoKind,
};

/**
 * The AI kinds the configured providers serve — none without providers, so nothing half-works:
 * a kind no provider serves is not registered, and so is absent from /api/renderers, the OpenAPI
 * document, llms.txt and MCP. One client and one in-process limit per provider, shared by its kinds.
 */
export function providerRenderers(providers: ProviderConfig[], options: ProviderKindsOptions = {}): Renderer<any>[] {
  if (providers.length === 0) return [];
  const guard = options.guard ?? createOutboundGuard({ allowPrivate: false, resolve: options.resolve, classify: options.classify });
  const handles = new Map<string, ProviderHandle>(
    providers.map((p) => [p.name, { config: p, client: createOpenAiClient(p, { guard }), limiter: createProviderLimiter(p.maxConcurrent) }]),
  );
  return PROVIDER_KINDS.flatMap((kind) => {
    const serving = providers.filter((p) => p.kinds.includes(kind)).map((p) => handles.get(p.name)!);
    return serving.length > 0 ? [BUILDERS[kind](serving)] : [];
  });
}
