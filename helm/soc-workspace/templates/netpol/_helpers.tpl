{{- /* Pieces shared by the NetworkPolicies. */}}

{{- /* Dask scheduler and worker pods of one gateway instance (labels set by its controller) */}}
{{- define "soc-workspace.netpol.daskPods" -}}
matchLabels:
  gateway.dask.org/instance: {{ . | quote }}
matchExpressions:
  - key: app.kubernetes.io/component
    operator: In
    values: [dask-scheduler, dask-worker]
{{- end }}

{{- /* Every address except networkPolicy.privateNetworks, per address family */}}
{{- define "soc-workspace.netpol.publicInternet" -}}
{{- $v4 := list }}{{ $v6 := list }}
{{- range .Values.networkPolicy.privateNetworks }}
{{- if contains ":" . }}{{ $v6 = append $v6 . }}{{ else }}{{ $v4 = append $v4 . }}{{ end }}
{{- end }}
- ipBlock:
    cidr: 0.0.0.0/0
    {{- with $v4 }}
    except: {{ toJson . }}
    {{- end }}
- ipBlock:
    cidr: ::/0
    {{- with $v6 }}
    except: {{ toJson . }}
    {{- end }}
{{- end }}

{{- define "soc-workspace.netpol.objectStorePorts" -}}
{{- with .Values.networkPolicy.objectStore.ports }}
ports:
  {{- range . }}
  - {port: {{ . | int }}, protocol: TCP}
  {{- end }}
{{- end }}
{{- end }}

{{- /* An object store inside the private network (S3 interface endpoint, MinIO), if any */}}
{{- define "soc-workspace.netpol.objectStorePeers" -}}
{{- $store := .Values.networkPolicy.objectStore }}
{{- if or $store.cidrs $store.peers }}
# The object store inside the private network.
- to:
    {{- range $store.cidrs }}
    - ipBlock:
        cidr: {{ . | quote }}
    {{- end }}
    {{- with $store.peers }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- include "soc-workspace.netpol.objectStorePorts" . | nindent 2 }}
{{- end }}
{{- end }}
