# syntax=docker/dockerfile:1
# Node 24 LTS, the line .nvmrc and package.json's engines name (test/infra/compose.test.ts keeps them equal).
# Build: compile TypeScript to dist/ with the dev dependencies.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY machines ./machines
COPY init-scripts ./init-scripts
RUN npm run build

# Runtime: production dependencies and the compiled output only, as a non-root user. No install
# scripts run here (none of the production dependencies needs one).
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production \
    PORT=8080
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The console's CSS and script (tsc copies no assets).
COPY --from=build /app/src/console/assets ./dist/src/console/assets
USER node
EXPOSE 8080
CMD ["node", "dist/src/main.js"]
