/**
 * A real, self-signed X.509 certificate (CN=idp.example.com) for connection fixtures: admin routes parse
 * idpCert as X.509 when a connection is saved. Its private key was discarded when it was made, so it
 * verifies nothing; tests that sign SAML responses generate their own key pair. Same certificate as
 * docs/examples/saml-idp-cert.pem.
 */
export const TEST_IDP_CERT = `-----BEGIN CERTIFICATE-----
MIIDhTCCAm2gAwIBAgIUUqtLrAG6DEXwDqgZPpzPxkmaq7cwDQYJKoZIhvcNAQEL
BQAwUjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUuY29tMTYwNAYDVQQKDC1Eb29ybWFu
IGV4YW1wbGUgSWRQIChubyBwcml2YXRlIGtleSBhbnl3aGVyZSkwHhcNMjYxMjA0
MTU0NzI4WhcNMzYxMjAxMTU0NzI4WjBSMRgwFgYDVQQDDA9pZHAuZXhhbXBsZS5j
b20xNjA0BgNVBAoMLURvb3JtYW4gZXhhbXBsZSBJZFAgKG5vIHByaXZhdGUga2V5
IGFueXdoZXJlKTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAKLIrAhv
nhoq5v9Whs8tccmh6sFLEiTgfgZT0FWCQ40S1sJgCjymAXHIOCZObB2BvXp/eIPg
4PmToh4/oQB9QwABvPbEs17bfthSPuDr9OKW7aYAfeKLoPvSLwUi9eqx4aZkDXLY
f3UevTcILcicPA84qCEy9m1JUHexciyCJy/LMyped73JtENCRakDNfoQVbPlI8gz
VAVvSHKJphe5JDkOZ8jgh011yPosC/YSd8wazpKFxvgCxnA/PKhLUXYTeyRDZTDx
Nm55XOuoT5TSAhjvj9OzUuL3mkmXBDd4OVCHl10537983Bm2EX7birYzrmxglOq9
M/sRKJ1Ra83rnmcCAwEAAaNTMFEwHQYDVR0OBBYEFCxTWrdFHnz+QGs2fwCONPki
x2ijMB8GA1UdIwQYMBaAFCxTWrdFHnz+QGs2fwCONPkix2ijMA8GA1UdEwEB/wQF
MAMBAf8wDQYJKoZIhvcNAQELBQADggEBABY/9MRrJo3/N+c1umfkNWHodPUGXIjG
+SToo2bmVCVKONM1cLlMBmXUwZ5F9Am/ByvtXHM10aB0wi9j0PlVxDfrW8n4YoSR
UKx91NdzjwPr/uEUZxys6GxVR5J3B5E6m2Z06pEN8hQxwkR/zCMYDCddw5pLCgdI
aWpfUNkOYUjcjCPTqR2X83T0wbPffk2zBl/eVa/DJTRcToQf25/90dvYiPqsL9N0
qjg1yVAcA7K+Tk9QRU5yZuG+KNbIVD4/WO3Mr3z49KJst0WXVSMQEfqpVhn3vqp9
h9KZHrHywRp0byB0IgIbKd6I2JtASTnqldFueMo+DJaFAX3k78tqr1c=
-----END CERTIFICATE-----
`;

/** SAML IdP settings that pass the admin API validation. */
export const TEST_SAML_SETTINGS = { entryPoint: 'https://idp.example.com/sso', idpIssuer: 'https://idp.example.com', idpCert: TEST_IDP_CERT } as const;
