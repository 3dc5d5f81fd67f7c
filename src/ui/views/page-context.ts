import { createContext } from 'preact';

/** What every page says whatever it shows: the service-wide dry run, and the routes that are dry runs. */
export interface PageFacts {
  dryRun: boolean;
  /** App patterns of routes with dry_run: true (when the whole service is not a dry run). */
  dryRunRoutes: string[];
}

export const PageContext = createContext<PageFacts>({ dryRun: false, dryRunRoutes: [] });
