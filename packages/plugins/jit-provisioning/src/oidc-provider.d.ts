// oidc-provider ships no type declarations; the tests use it only as a black-box OpenID Provider.
declare module 'oidc-provider';
