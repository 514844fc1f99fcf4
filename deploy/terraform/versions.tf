# Terraform >= 1.6 and OpenTofu >= 1.6 both read this configuration: it uses no feature either
# added later (no cross-variable validation, no provider for_each, no OpenTofu-only functions).
# `npm run check:terraform` validates it with OpenTofu built from Go modules (ADR 0119).
terraform {
  required_version = ">= 1.6.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 6.0.0, < 7.0.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = merge(var.tags, {
      "app.kubernetes.io/part-of" = "hev-layer"
      "layer.hev.dev/install"     = var.name
    })
  }
}
