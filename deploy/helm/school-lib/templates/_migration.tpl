{{/*
Migration Job of a service: `python -m <module> migrate` (Alembic upgrade with the owner role's URL,
DATABASE__MIGRATION_URL). A Helm hook (values.migrations.hookEvents, default pre-install,pre-upgrade),
so a new release's pods start only on a migrated schema. Being a hook, it cannot use the release's
ConfigMap or ServiceAccount (they do not exist yet before install): its settings are inlined and its
ServiceAccount is a hook resource too (see school-lib.serviceAccount with .hook). The context carries
jobPod (no topology spread) and migration (adds DATABASE__MIGRATION_URL) set to true.
*/}}
{{- define "school-lib.migrationJob" -}}
{{- $v := .values -}}
{{- $m := $v.migrations -}}
---
apiVersion: batch/v1
kind: Job
metadata:
  name: {{ .workloadName }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- .labels | nindent 4 }}
  annotations:
    helm.sh/hook: {{ join "," $m.hookEvents }}
    helm.sh/hook-weight: "0"
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  backoffLimit: {{ $m.backoffLimit | int }}
  activeDeadlineSeconds: {{ $m.activeDeadlineSeconds | int }}
  {{- if $m.ttlSecondsAfterFinished }}
  ttlSecondsAfterFinished: {{ $m.ttlSecondsAfterFinished | int }}
  {{- end }}
  template:
    metadata:
      labels: {{- include "school-lib.podLabels" . | nindent 8 }}
      annotations: {{- include "school-lib.podAnnotations" . | nindent 8 }}
    spec:
      restartPolicy: Never
      {{- include "school-lib.podCommon" . | nindent 6 }}
      containers:
        - name: migrate
          image: {{ .image | quote }}
          imagePullPolicy: {{ $v.image.pullPolicy }}
          args: ["migrate"]
          env:
            {{- range $k, $val := (.configData | fromYaml) }}
            - name: {{ $k }}
              value: {{ toString $val | quote }}
            {{- end }}
            {{- include "school-lib.env" . | nindent 12 }}
          resources: {{- toYaml $m.resources | nindent 12 }}
          securityContext: {{- toYaml $v.containerSecurityContext | nindent 12 }}
          volumeMounts: {{- include "school-lib.volumeMounts" . | nindent 12 }}
{{- end -}}
