{{/* Names. With release name `layer` they match deploy/operator and the operator's defaults. */}}
{{- define "layer.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "layer.labels" -}}
app.kubernetes.io/part-of: hev-layer
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The operator's ServiceAccount and ClusterRole name. */}}
{{- define "layer.serviceAccountName" -}}
{{- if .Values.serviceAccount.name -}}
{{- .Values.serviceAccount.name -}}
{{- else -}}
{{- printf "%s-operator" (include "layer.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The release Secret: the store credential and rendered inbound keys (LAYER_RELEASE_SECRET_NAME). */}}
{{- define "layer.secretName" -}}
{{- include "layer.fullname" . -}}
{{- end -}}

{{/* The Service of the HTTP API, and its in-cluster URL (LAYER_OPERATOR_API_URL). */}}
{{- define "layer.apiServiceName" -}}
{{- printf "%s-orchestrator" (include "layer.fullname" .) -}}
{{- end -}}

{{- define "layer.apiUrl" -}}
{{- printf "http://%s.%s.svc:%v" (include "layer.apiServiceName" .) .Release.Namespace .Values.service.port -}}
{{- end -}}

{{- define "layer.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* Where the upstream store credential is: {name, key}. */}}
{{- define "layer.credentialSecretName" -}}
{{- .Values.vectorStore.credential.existingSecret | default (include "layer.secretName" .) -}}
{{- end -}}

{{/*
Inputs the chart refuses beyond what values.schema.json can express; each message names the value
and the fix.
*/}}
{{- define "layer.validate" -}}
{{- $vs := .Values.vectorStore -}}
{{- if and (not $vs.credential.apiKey) (not $vs.credential.existingSecret) -}}
{{- fail "vectorStore.credential.apiKey is required: set it to the upstream store's API key, or set vectorStore.credential.existingSecret to a Secret that holds it" -}}
{{- end -}}
{{- if and $vs.credential.apiKey $vs.credential.existingSecret -}}
{{- fail "vectorStore.credential: set apiKey or existingSecret, not both" -}}
{{- end -}}
{{- if eq $vs.inboundAuth.mode "keys" -}}
{{- if not $vs.inboundAuth.keys -}}
{{- fail "vectorStore.inboundAuth.keys: keys mode needs at least one key (or choose mode deriveFromStore or open)" -}}
{{- end -}}
{{- $rendered := dict -}}
{{- range $i, $k := $vs.inboundAuth.keys -}}
{{- if and (not $k.apiKey) (not $k.secretRef) -}}
{{- fail (printf "vectorStore.inboundAuth.keys[%d] (%s): set apiKey or secretRef" $i $k.name) -}}
{{- end -}}
{{- if $k.apiKey -}}
{{- if and $k.secretRef $k.secretRef.name -}}
{{- fail (printf "vectorStore.inboundAuth.keys[%d] (%s): apiKey is rendered into the release Secret; drop secretRef.name (or drop apiKey to use that Secret)" $i $k.name) -}}
{{- end -}}
{{- $_ := set $rendered (include "layer.inboundKeySecretKey" $k) true -}}
{{- end -}}
{{- end -}}
{{- if and (not $vs.inboundAuth.workerSecretName) (not (hasKey $rendered $vs.inboundAuth.workerSecretKey)) -}}
{{- fail (printf "vectorStore.inboundAuth: workers need their bearer %q in the release Secret; give a key apiKey and secretRef.key %q, or set workerSecretName to a pre-created Secret" $vs.inboundAuth.workerSecretKey $vs.inboundAuth.workerSecretKey) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.s3.payloads.enabled (not .Values.s3.bucket) -}}
{{- fail "s3.bucket is required when s3.payloads.enabled is true" -}}
{{- end -}}
{{- if and .Values.temporal.tls.enabled (not .Values.temporal.tls.existingSecret) -}}
{{- fail "temporal.tls.existingSecret is required when temporal.tls.enabled is true (a Secret with tls.crt, tls.key and optionally ca.crt)" -}}
{{- end -}}
{{- if and .Values.workerKarpenter.enabled (or (not .Values.workerKarpenter.clusterName) (not .Values.workerKarpenter.nodeRole)) -}}
{{- fail "workerKarpenter.clusterName and workerKarpenter.nodeRole are required when workerKarpenter.enabled is true" -}}
{{- end -}}
{{- end -}}

{{/* Key of an inbound key's bearer in the release Secret. */}}
{{- define "layer.inboundKeySecretKey" -}}
{{- if and .secretRef .secretRef.key -}}
{{- .secretRef.key -}}
{{- else -}}
{{- printf "layer-inbound-key-%s" .name -}}
{{- end -}}
{{- end -}}

{{/*
The operator ClusterRole's rules, read from deploy/operator/10-rbac.yaml (files/operator-rbac.yaml
is a link to it): the hand-written install and the chart grant exactly the same.
*/}}
{{- define "layer.operatorRules" -}}
{{- $rules := list -}}
{{- range splitList "\n---\n" (.Files.Get "files/operator-rbac.yaml") -}}
{{- $doc := fromYaml . -}}
{{- if eq (get $doc "kind") "ClusterRole" -}}
{{- $rules = get $doc "rules" -}}
{{- end -}}
{{- end -}}
{{- if not $rules -}}
{{- fail "files/operator-rbac.yaml (deploy/operator/10-rbac.yaml) has no ClusterRole with rules" -}}
{{- end -}}
{{- toYaml $rules -}}
{{- end -}}

{{- define "layer.leaseName" -}}
{{- printf "%s-operator" (include "layer.fullname" .) -}}
{{- end -}}
