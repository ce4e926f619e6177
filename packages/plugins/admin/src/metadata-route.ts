/** POST /admin/v1/saml-metadata: IdP metadata (XML or URL) → a SAML connection's settings (docs/saml-metadata.md). */
import { z } from 'zod';
import { InputError, OutboundFetchError, outboundGet, type HttpSurface } from '@doorman/core';
import type { AdminConfig } from './config.ts';
import { parseIdpMetadata } from './saml-metadata.ts';

export const metadataBody = z
  .object({
    xml: z.string().min(1).optional().meta({ description: 'the IdP metadata document (Okta: “Identity Provider metadata”; Entra ID: “Federation Metadata XML”)' }),
    url: z.url({ protocol: /^https?$/ }).max(2048).optional().meta({ description: 'where the IdP publishes it; fetched by the gateway (public addresses only unless ADMIN_METADATA_ALLOW_PRIVATE_URLS, no redirects)' }),
  })
  .strict()
  .refine((b) => (b.xml === undefined) !== (b.url === undefined), { message: 'send exactly one of xml and url', path: ['xml'] });

export const metadataResult = z
  .object({
    idpIssuer: z.string().meta({ description: 'the IdP entity id (idp.idpIssuer)' }),
    entryPoint: z.string().meta({ description: 'the single sign-on URL (idp.entryPoint)' }),
    idpCert: z.string().meta({ description: 'the signing certificate as PEM (idp.idpCert)' }),
    certificate: z.object({ subject: z.string(), validTo: z.string() }),
    otherSigningCertificates: z.number().int().meta({ description: 'further signing certificates listed (a rollover); only the first is used' }),
  })
  .meta({ id: 'SamlIdpMetadata' });

export function registerMetadataRoute(http: HttpSurface, config: AdminConfig): void {
  http.adminRoute({
    method: 'post',
    path: '/saml-metadata',
    scope: 'deployment',
    summary: 'Read IdP SAML metadata into connection settings',
    description:
      'Parses IdP metadata, pasted (`xml`) or fetched from `url`, into the `idp` settings of a SAML connection (entryPoint, idpIssuer, idpCert as PEM). Nothing is saved: PATCH the connection with them.',
    body: metadataBody,
    responses: { 200: { description: 'the settings read from the metadata', schema: metadataResult } },
    handler: async (ctx, input) => {
      const { xml, url } = input.body;
      let text = xml;
      if (text !== undefined && Buffer.byteLength(text) > config.metadataMaxBytes) throw new InputError(`xml: larger than ${config.metadataMaxBytes} bytes (ADMIN_METADATA_MAX_BYTES)`, { field: 'xml' });
      if (url !== undefined) {
        try {
          text = await outboundGet(url, { allowPrivate: config.metadataAllowPrivateUrls, timeoutMs: config.metadataTimeoutMs, maxBytes: config.metadataMaxBytes, accept: 'application/samlmetadata+xml, application/xml, text/xml' });
        } catch (err) {
          if (!(err instanceof OutboundFetchError)) throw err;
          const hint = err.reason === 'refused' ? '; set ADMIN_METADATA_ALLOW_PRIVATE_URLS=true to allow private addresses' : '';
          throw new InputError(`url: the metadata could not be fetched: ${err.message}${hint}`, { field: 'url', cause: err });
        }
      }
      const parsed = parseIdpMetadata(text!);
      if (!parsed.ok) throw new InputError(`${url !== undefined ? 'url' : 'xml'}: ${parsed.message}`, { field: url !== undefined ? 'url' : 'xml' });
      ctx.body = parsed.metadata;
    },
  });
}
