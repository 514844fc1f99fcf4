# The orchestrator image: `layer operator` (watcher + orchestrator worker + HTTP API) by
# default; `layer orchestrator`, `layer store serve` etc. by overriding the command.
FROM node:20-slim
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY bin ./bin
COPY src ./src
COPY examples ./examples
COPY test/k8s-bin ./test/k8s-bin
USER node
ENV NODE_ENV=production
ENTRYPOINT ["node", "bin/layer.js"]
CMD ["operator"]
