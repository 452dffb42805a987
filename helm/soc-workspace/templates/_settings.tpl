{{- /*
  What the chart's values become inside the pods:

  - soc-workspace.settings.toml: a soc-workspace settings file (the format of
    src/soc_workspace/defaults.toml, read through SOC_WORKSPACE_CONFIG) for the hub and the
    gateway: the same settings the one-machine workspace reads, so soc_workspace.hub makes the
    same decisions in both deployments;
  - soc-workspace.user-settings.toml: the part user servers need (store, scratch, catalog);
  - soc-workspace.kubernetes.json: what only Kubernetes needs (names of objects, resources,
    volumes, kernels per profile), read by soc_workspace.kubernetes.
*/}}

{{- /* Sets the data-access sections into a dict: (list $ $settings) */}}
{{- define "soc-workspace.settings.data-access" -}}
{{- $v := (index . 0).Values }}
{{- $s := index . 1 }}
{{- $_ := set $s "stage" (include "soc-workspace.stage" (index . 0)) }}
{{- $_ := set $s "store" (dict
      "endpoint_url" $v.store.endpointUrl
      "region" $v.store.region
      "credentials" $v.store.credentials
      "max_attempts" ($v.store.maxAttempts | int)) }}
{{- $_ := set $s "scratch" (dict "url" $v.scratch.url) }}
{{- $_ := set $s "catalog" (dict "url" $v.catalog.url "cache_dir" "") }}
{{- end }}

{{- define "soc-workspace.settings.toml" -}}
{{- $v := .Values }}
{{- $s := dict }}
{{- include "soc-workspace.settings.data-access" (list . $s) }}
{{- $profiles := dict }}
{{- range $slug, $p := $v.profiles }}
{{- $_ := set $profiles $slug (dict
      "display_name" $p.displayName
      "description" $p.description
      "cpu_limit" ($p.cpu.limit | float64)
      "mem_limit" $p.memory.limit) }}
{{- end }}
{{- /* Idle servers are culled by the jupyterhub chart's culler (jupyterhub.cull), not here */}}
{{- $_ := set $s "hub" (dict "profiles" $profiles) }}
{{- $groupLimits := dict }}
{{- range $group, $l := $v.gateway.groupLimits }}
{{- $limits := dict }}
{{- with $l.maxWorkers }}{{ $_ := set $limits "max_workers" (. | int) }}{{ end }}
{{- with $l.maxCores }}{{ $_ := set $limits "max_cores" (. | float64) }}{{ end }}
{{- with $l.maxMemory }}{{ $_ := set $limits "max_memory" . }}{{ end }}
{{- if not (kindIs "invalid" $l.maxClustersPerUser) }}{{ $_ := set $limits "max_clusters_per_user" ($l.maxClustersPerUser | int) }}{{ end }}
{{- $_ := set $groupLimits $group $limits }}
{{- end }}
{{- $_ := set $s "gateway" (dict
      "worker_cores" ($v.gateway.workerCores | int)
      "worker_memory" $v.gateway.workerMemory
      "max_workers" ($v.gateway.maxWorkers | int)
      "max_cores" ($v.gateway.maxCores | float64)
      "max_memory" $v.gateway.maxMemory
      "max_clusters_per_user" ($v.gateway.maxClustersPerUser | int)
      "idle_timeout" ($v.gateway.idleTimeoutSeconds | float64)
      "group_limits" $groupLimits) }}
{{- $s | toToml }}
{{- end }}

{{- define "soc-workspace.user-settings.toml" -}}
{{- $s := dict }}
{{- include "soc-workspace.settings.data-access" (list . $s) }}
{{- $s | toToml }}
{{- end }}

{{- define "soc-workspace.kubernetes.json" -}}
{{- $v := .Values }}
{{- $traefik := printf "%s.%s" (include "soc-workspace.dask-gateway.traefikName" .) .Release.Namespace }}
{{- $port := include "soc-workspace.dask-gateway.webPort" . }}
{{- $tcpPort := include "soc-workspace.dask-gateway.tcpPort" . }}
{{- $prefix := dig "gateway" "prefix" "/services/dask-gateway" (index $v "dask-gateway") | trimSuffix "/" }}
{{- $teams := dict }}
{{- range $group, $_ := $v.teams.groups }}
{{- $_ := set $teams $group (include "soc-workspace.team.fullname" (list $ $group)) }}
{{- end }}
{{- $k := dict
      "release" .Release.Name
      "namespace" .Release.Namespace
      "image" (include "soc-workspace.notebookImage" .)
      "serviceAccount" (include "soc-workspace.user-serviceaccount.fullname" .)
      "userConfigMap" (include "soc-workspace.user.fullname" .)
      "catalogFiles" (keys $v.catalog.files | sortAlpha)
      "profiles" $v.profiles
      "jupyter" $v.jupyter
      "gateway" (dict
        "serviceUrl" (printf "http://%s:%s" $traefik $port)
        "address" (printf "http://%s:%s%s" $traefik $port $prefix)
        "proxyAddress" (printf "gateway://%s:%s" $traefik $tcpPort)
        "publicAddress" (printf "%s/" $prefix)
        "stopClustersWithServer" $v.gateway.stopClustersWithServer)
      "homeMountPath" (dig "singleuser" "storage" "homeMountPath" "/home/jovyan" $v.jupyterhub)
      "teams" (dict
        "enabled" $v.teams.enabled
        "claims" $teams
        "shared" (dict
          "enabled" $v.teams.shared.enabled
          "claimName" (include "soc-workspace.shared.fullname" .)))
}}
{{- if $v.workshop.enabled }}
{{- $_ := set $k "workshop" (dict "profile" $v.workshop.profile "priorityClassName" (include "soc-workspace.workshop-priority.fullname" .)) }}
{{- end }}
{{- $k | toPrettyJson }}
{{- end }}

{{- /* The prod/dev stage: `stage`, or `environment`, its old name (deprecated, until 0.3) */}}
{{- define "soc-workspace.stage" -}}
{{- .Values.environment | default .Values.stage }}
{{- end }}
