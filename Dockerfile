FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# Roles: `npm run worker` or `npm run api` (both need DATABASE_URL and TEMPORAL_ADDRESS).
CMD ["npm", "run", "api"]
