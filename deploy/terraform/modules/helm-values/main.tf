# The values.yaml fragment for deploy/helm/layer that wires the chart to what Terraform made:
# the bucket (s3.*), the operator's IRSA role (serviceAccount.*), its image in ECR (image.*), the
# Karpenter NodePools' cluster and node role (workerKarpenter.*) and, with managed DNS, the ingress.
# Only keys of the chart's values.schema.json appear (the chart refuses others); what the chart has
# no key for (the gateway image, the dashboard's cost-read role) goes into the header comments.
# No provider: pure expressions, so `npm run check:terraform` renders it without AWS.

locals {
  base = {
    s3 = {
      bucket = var.bucket_name
      region = var.region
      payloads = {
        enabled = true
        prefix  = var.payloads_prefix
      }
    }
    serviceAccount = {
      create  = true
      name    = var.operator_service_account
      roleArn = var.operator_role_arn
    }
  }

  # Optional keys as one-entry maps filtered by their condition: merge() then takes them or not
  # without a conditional whose two sides have different object types.
  optional = {
    image = {
      include = true
      value = merge(
        { repository = var.image_repository },
        { for k, v in { tag = var.image_tag } : k => v if v != "" },
      )
    }
    workerKarpenter = {
      include = var.karpenter.enabled
      value = {
        enabled     = true
        clusterName = var.karpenter.cluster_name
        nodeRole    = var.karpenter.node_role
      }
    }
    ingress = {
      include = var.ingress.host != ""
      value = {
        host      = var.ingress.host
        className = "alb"
        annotations = merge(
          {
            "alb.ingress.kubernetes.io/scheme"      = "internet-facing"
            "alb.ingress.kubernetes.io/target-type" = "ip"
          },
          var.ingress.certificate_arn == "" ? {} : {
            "alb.ingress.kubernetes.io/certificate-arn" = var.ingress.certificate_arn
            "alb.ingress.kubernetes.io/listen-ports"    = "[{\"HTTPS\":443}]"
          },
        )
      }
    }
  }

  values = merge(local.base, { for k, o in local.optional : k => o.value if o.include })

  header = join("\n", concat(
    [
      "# Values for deploy/helm/layer from deploy/terraform (output helm_values) for install ${var.install_name}.",
      "# Add vectorStore.credential.apiKey (or existingSecret) and pass with -f; see deploy/terraform/README.md.",
    ],
    [for k, v in var.notes : "# ${k}: ${v}" if v != ""],
  ))

  document = "${local.header}\n${yamlencode(local.values)}"
}
