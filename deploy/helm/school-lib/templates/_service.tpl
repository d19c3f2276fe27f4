{{/* ClusterIP Service of a service's api component (gRPC) or of the gateway (HTTP). */}}
{{- define "school-lib.service" -}}
{{- $s := .values.service -}}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ .workloadName }}
  namespace: {{ .root.Release.Namespace }}
  labels: {{- .labels | nindent 4 }}
  {{- with $s.annotations }}
  annotations: {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ $s.type }}
  selector: {{- .selectorLabels | nindent 4 }}
  ports:
    {{- if eq .kind "service" }}
    - name: grpc
      port: {{ $s.port | int }}
      targetPort: grpc
      protocol: TCP
      appProtocol: grpc
    {{- else }}
    - name: http
      port: {{ $s.port | int }}
      targetPort: http
      protocol: TCP
      appProtocol: http
    {{- end }}
{{- end -}}
