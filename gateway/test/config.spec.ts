import { loadConfig } from '@vtv/kit';
import { gatewayConfig, subgraphUrlOverrides } from '../src/config';

const base = { INTERNAL_AUTH_SECRET: 'x'.repeat(32) };

describe('subgraph URL overrides', () => {
  it('accepts any subgraph name through SUBGRAPH_URLS; the named variables win', () => {
    const c = loadConfig(gatewayConfig, {
      ...base,
      SUBGRAPH_URLS: 'hubei-carers=http://carers:4000/graphql,vouchers=http://old:4000/graphql',
      VOUCHERS_URL: 'http://vouchers:4000/graphql',
    });
    expect(subgraphUrlOverrides(c)).toEqual({
      'hubei-carers': 'http://carers:4000/graphql',
      vouchers: 'http://vouchers:4000/graphql',
    });
  });

  it('refuses a malformed list, naming the variable', () => {
    expect(() => loadConfig(gatewayConfig, { ...base, SUBGRAPH_URLS: 'carers:http://x' })).toThrow(
      /SUBGRAPH_URLS: must be name=url pairs/,
    );
  });
});
