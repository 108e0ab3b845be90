FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# The web app (SPEC §8), served by the API replicas at /.
RUN npm run build:web
# Roles: `npm run worker` or `npm run api` (both need DATABASE_URL and TEMPORAL_ADDRESS).
CMD ["npm", "run", "api"]
