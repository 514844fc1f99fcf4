{{/*
The operator pod. Called with (dict "ctx" $ "role" ROLE "args" ARGS "api" BOOL): ROLE is the
component label (operator | watcher | worker | api), ARGS the `layer operator` flags. Every
environment variable is one src/config.ts reads (ConfigEnv), except TEMPORAL_API_KEY and
TEMPORAL_TLS_*, the Temporal SDKs' standard client variables (issue 11 item 5).
*/}}
{{- define "layer.deployment" -}}
{{- $ := .ctx -}}
{{- $v := $.Values -}}
{{- $vs := $v.vectorStore -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ printf "%s-%s" (include "layer.fullname" $) (eq .role "operator" | ternary "orchestrator" .role) }}
  namespace: {{ $.Release.Namespace }}
  labels:
    {{- include "layer.labels" $ | nindent 4 }}
    app.kubernetes.io/name: layer-orchestrator
    app.kubernetes.io/component: {{ .role }}
spec:
  replicas: {{ .replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: layer-orchestrator
      app.kubernetes.io/instance: {{ $.Release.Name }}
      app.kubernetes.io/component: {{ .role }}
  template:
    metadata:
      labels:
        {{- include "layer.labels" $ | nindent 8 }}
        app.kubernetes.io/name: layer-orchestrator
        app.kubernetes.io/component: {{ .role }}
        {{- if .api }}
        hevlayer.com/serves-api: 'true'
        {{- end }}
      annotations:
        # Roll the pods when the release Secret changes (a rotated store key).
        checksum/secret: {{ include (print $.Template.BasePath "/secret.yaml") $ | sha256sum }}
        {{- with $v.operator.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "layer.serviceAccountName" $ }}
      {{- with $v.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      securityContext:
        runAsNonRoot: true
        runAsUser: 65532
        runAsGroup: 65532
        fsGroup: 65532
        seccompProfile:
          type: RuntimeDefault
      containers:
        - name: orchestrator
          image: {{ include "layer.image" $ | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args:
            {{- toYaml .args | nindent 12 }}
          env:
            - name: TEMPORAL_ADDRESS
              value: {{ $v.temporal.address | quote }}
            - name: TEMPORAL_NAMESPACE
              value: {{ $v.temporal.namespace | quote }}
            {{- with $v.temporal.taskQueue }}
            - name: LAYER_ORCHESTRATOR_TASK_QUEUE
              value: {{ . | quote }}
            {{- end }}
            {{- with $v.temporal.uiUrl }}
            - name: LAYER_TEMPORAL_UI_URL
              value: {{ . | quote }}
            {{- end }}
            {{- with $v.temporal.workerAddress }}
            - name: LAYER_WORKER_TEMPORAL_ADDRESS
              value: {{ . | quote }}
            {{- end }}
            {{- with $v.temporal.apiKey.existingSecret }}
            - name: TEMPORAL_API_KEY
              valueFrom:
                secretKeyRef:
                  name: {{ . }}
                  key: {{ $v.temporal.apiKey.key }}
            {{- end }}
            {{- if $v.temporal.tls.enabled }}
            - name: TEMPORAL_TLS
              value: 'true'
            - name: TEMPORAL_TLS_CLIENT_CERT_PATH
              value: /etc/layer/temporal-tls/tls.crt
            - name: TEMPORAL_TLS_CLIENT_KEY_PATH
              value: /etc/layer/temporal-tls/tls.key
            - name: TEMPORAL_TLS_SERVER_CA_CERT_PATH
              value: /etc/layer/temporal-tls/ca.crt
            {{- with $v.temporal.tls.serverName }}
            - name: TEMPORAL_TLS_SERVER_NAME
              value: {{ . | quote }}
            {{- end }}
            {{- end }}
            {{- /* What worker pods get for Temporal Cloud: the same Secret by name, TLS on. */}}
            {{- with $v.temporal.apiKey.existingSecret }}
            - name: LAYER_WORKER_TEMPORAL_API_KEY_SECRET_NAME
              value: {{ . | quote }}
            - name: LAYER_WORKER_TEMPORAL_API_KEY_SECRET_KEY
              value: {{ $v.temporal.apiKey.key | quote }}
            {{- end }}
            {{- if $v.temporal.tls.enabled }}
            - name: LAYER_WORKER_TEMPORAL_TLS
              value: "true"
            {{- end }}
            {{- with $v.keda.pollingIntervalSeconds }}
            - name: LAYER_KEDA_POLLING_INTERVAL_SECONDS
              value: {{ . | toString | quote }}
            {{- end }}
            {{- with $v.keda.cooldownPeriodSeconds }}
            - name: LAYER_KEDA_COOLDOWN_PERIOD_SECONDS
              value: {{ . | toString | quote }}
            {{- end }}
            {{- with $v.keda.targetQueueDepthPerReplica }}
            - name: LAYER_KEDA_TARGET_QUEUE_DEPTH_PER_REPLICA
              value: {{ . | toString | quote }}
            {{- end }}
            {{- if $v.keda.pushScaler.enabled }}
            - name: LAYER_KEDA_SCALER_PORT
              value: {{ $v.keda.pushScaler.port | quote }}
            - name: LAYER_KEDA_SCALER_ADDRESS
              value: {{ printf "%s.%s.svc:%v" (include "layer.apiServiceName" $) $.Release.Namespace $v.keda.pushScaler.port | quote }}
            {{- end }}
            - name: LAYER_API_PORT
              value: {{ $v.operator.apiPort | quote }}
            - name: LAYER_STORE_URL
              value: {{ $vs.endpoint.url | quote }}
            - name: LAYER_STORE_API_KEY
              valueFrom:
                secretKeyRef:
                  name: {{ include "layer.credentialSecretName" $ }}
                  key: {{ $vs.credential.existingSecretKey }}
            - name: LAYER_VECTOR_STORE
              value: {{ printf "%s/%s" $.Release.Namespace $vs.name | quote }}
            - name: LAYER_OPERATOR_API_URL
              value: {{ include "layer.apiUrl" $ | quote }}
            - name: LAYER_WORKER_STORE_URL
              value: {{ $v.workers.storeUrl | default (printf "http://layer-gateway.%s.svc:8080" $.Release.Namespace) | quote }}
            - name: LAYER_RELEASE_SECRET_NAME
              value: {{ include "layer.secretName" $ | quote }}
            - name: LAYER_LOG_LEVEL
              value: {{ $v.operator.logLevel | default "info" | quote }}
            - name: LAYER_LEADER_ELECT
              value: {{ $v.operator.leaderElection.enabled | toString | quote }}
            {{- if $v.operator.leaderElection.enabled }}
            - name: LAYER_LEADER_ELECTION_NAMESPACE
              value: {{ $.Release.Namespace | quote }}
            - name: LAYER_LEADER_ELECTION_ID
              value: {{ include "layer.leaseName" $ | quote }}
            {{- end }}
            {{- if $v.operator.discovery.enabled }}
            - name: LAYER_INDEX_DISCOVERY
              value: "true"
            - name: LAYER_INDEX_DISCOVERY_NAMESPACE
              value: {{ default $.Release.Namespace $v.operator.discovery.indexNamespace | quote }}
            - name: LAYER_INDEX_DISCOVERY_INTERVAL_SECONDS
              value: {{ $v.operator.discovery.intervalSeconds | toString | quote }}
            - name: LAYER_INDEX_GC
              value: {{ $v.gateway.indexGc.enabled | toString | quote }}
            {{- end }}
            - name: LAYER_RECONCILE_CONCURRENCY
              value: {{ $v.operator.reconcileConcurrency | default 32 | toString | quote }}
            {{- with $v.operator.watchNamespaces }}
            - name: LAYER_WATCH_NAMESPACES
              value: {{ join "," . | quote }}
            {{- end }}
            {{- if $v.s3.payloads.enabled }}
            - name: LAYER_PAYLOAD_BUCKET
              value: {{ $v.s3.bucket | quote }}
            - name: LAYER_PAYLOAD_PREFIX
              value: {{ $v.s3.payloads.prefix | quote }}
            - name: LAYER_PAYLOAD_THRESHOLD_BYTES
              value: {{ $v.s3.payloads.thresholdBytes | int64 | quote }}
            {{- end }}
            {{- with $v.s3.region }}
            - name: AWS_REGION
              value: {{ . | quote }}
            {{- end }}
            {{- /* V8's young generation capped at 2 MB semi-spaces (its default let each of the
                   process's three heaps idle at several times what they hold); the image's
                   --enable-source-maps kept. extraEnv, below, may set NODE_OPTIONS again: the
                   later entry wins. docs/adr/0114. */}}
            - name: NODE_OPTIONS
              value: "--enable-source-maps --max-semi-space-size=2"
            {{- with $v.operator.extraEnv }}
            {{- toYaml . | nindent 12 }}
            {{- end }}
          {{- if .api }}
          ports:
            - name: http
              containerPort: {{ $v.operator.apiPort }}
            {{- if $v.keda.pushScaler.enabled }}
            - name: keda-scaler
              containerPort: {{ $v.keda.pushScaler.port }}
            {{- end }}
          readinessProbe:
            httpGet: { path: /readyz, port: http }
            periodSeconds: 10
          livenessProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: 20
          {{- end }}
          resources:
            {{- toYaml $v.operator.resources | nindent 12 }}
          securityContext:
            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            runAsNonRoot: true
            capabilities:
              drop: [ALL]
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if $v.temporal.tls.enabled }}
            - name: temporal-tls
              mountPath: /etc/layer/temporal-tls
              readOnly: true
            {{- end }}
      volumes:
        # The Temporal worker bundles workflow code at start-up; it needs a writable scratch dir.
        - name: tmp
          emptyDir: {}
        {{- if $v.temporal.tls.enabled }}
        - name: temporal-tls
          secret:
            secretName: {{ $v.temporal.tls.existingSecret }}
        {{- end }}
      {{- with $v.operator.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.operator.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $v.operator.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}
