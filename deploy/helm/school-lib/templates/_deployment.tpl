{{/*
Deployment of one long-running component: a service's api / worker / relay (gRPC on 50051, native gRPC
probes) or the gateway (HTTP on 8080). .comp holds replicas, resources and autoscaling.
*/}}
{{- define "school-lib.deployment" -}}
{{- $v := .values -}}
{{- $comp := .comp -}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .workloadName }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- .labels | nindent 4 }}
spec:
  {{- if not $comp.autoscaling.enabled }}
  replicas: {{ $comp.replicas | int }}
  {{- end }}
  revisionHistoryLimit: {{ $v.revisionHistoryLimit | int }}
  selector:
    matchLabels: {{- .selectorLabels | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxUnavailable: 0
      maxSurge: 1
  template:
    metadata:
      labels: {{- include "school-lib.podLabels" . | nindent 8 }}
      annotations: {{- include "school-lib.podAnnotations" . | nindent 8 }}
    spec:
      {{- include "school-lib.podCommon" . | nindent 6 }}
      terminationGracePeriodSeconds: {{ $v.terminationGracePeriodSeconds | int }}
      containers:
        - name: {{ .component }}
          image: {{ .image | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          {{- if eq .kind "service" }}
          args: [{{ get (include "school-lib.componentArgs" . | fromYaml) .component | quote }}]
          ports:
            - name: grpc
              containerPort: {{ include "school-lib.grpcPort" . }}
              protocol: TCP
          {{- else }}
          ports:
            - name: http
              containerPort: {{ include "school-lib.httpPort" . }}
              protocol: TCP
          {{- end }}
          envFrom:
            - configMapRef:
                name: {{ .configName }}
          env: {{- include "school-lib.env" . | nindent 12 }}
          {{- include "school-lib.probes" . | nindent 10 }}
          resources: {{- toYaml $comp.resources | nindent 12 }}
          securityContext: {{- toYaml $v.containerSecurityContext | nindent 12 }}
          volumeMounts: {{- include "school-lib.volumeMounts" . | nindent 12 }}
{{- end -}}

{{/*
Three distinct probes. Services: the standard grpc.health.v1 service, "" (process alive) for startup and
liveness, "readiness" (database and NATS reachable) for readiness. Gateway: /healthz and /readyz.
Timings come from .values.probes.
*/}}
{{- define "school-lib.probes" -}}
{{- $p := .values.probes -}}
{{- if eq .kind "service" -}}
{{- $port := include "school-lib.grpcPort" . | int -}}
startupProbe:
  grpc:
    port: {{ $port }}
  {{- include "school-lib.probeTimings" $p.startup | nindent 2 }}
readinessProbe:
  grpc:
    port: {{ $port }}
    service: readiness
  {{- include "school-lib.probeTimings" $p.readiness | nindent 2 }}
livenessProbe:
  grpc:
    port: {{ $port }}
  {{- include "school-lib.probeTimings" $p.liveness | nindent 2 }}
{{- else -}}
startupProbe:
  httpGet:
    path: /healthz
    port: http
  {{- include "school-lib.probeTimings" $p.startup | nindent 2 }}
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  {{- include "school-lib.probeTimings" $p.readiness | nindent 2 }}
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  {{- include "school-lib.probeTimings" $p.liveness | nindent 2 }}
{{- end -}}
{{- end -}}

{{- define "school-lib.probeTimings" -}}
initialDelaySeconds: {{ .initialDelaySeconds | int }}
periodSeconds: {{ .periodSeconds | int }}
timeoutSeconds: {{ .timeoutSeconds | int }}
failureThreshold: {{ .failureThreshold | int }}
{{- end -}}
