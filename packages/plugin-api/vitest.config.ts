import { sharedVitestConfig } from '@doorman/tooling/vitest';
export default sharedVitestConfig;
