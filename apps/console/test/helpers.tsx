// Shared set-up of the console's component tests (happy-dom): a JSON answer for a stubbed fetch, and
// the person page rendered at a path.
import { render } from '@testing-library/react';
import { MemoryRouter, Route, Routes } from 'react-router';
import { PersonPage } from '../src/pages/person/PersonPage.tsx';

export const respond = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

/** The person page at `path` (`/people/<id>`), as the router mounts it. */
export const renderPersonPage = (path: string) =>
  render(
    <MemoryRouter initialEntries={[path]}>
      <Routes>
        <Route path="/people/:id" element={<PersonPage />} />
      </Routes>
    </MemoryRouter>,
  );
