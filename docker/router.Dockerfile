FROM node:20-slim
WORKDIR /router
COPY gateway/router/package.json gateway/router/package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY gateway/router/ ./
USER node
EXPOSE 4000
CMD ["node", "node_modules/@graphql-hive/gateway/dist/bin.js", "supergraph", "--host", "0.0.0.0", "--port", "4000"]
