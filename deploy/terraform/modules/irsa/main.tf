# One IAM role that Kubernetes service accounts assume through the cluster's OIDC provider
# (IRSA), with one inline policy. The trust is pinned to the exact service accounts (sub) and
# to STS as audience (aud), so no other pod of the cluster can take the role.

locals {
  issuer_host = trimprefix(var.oidc_issuer_url, "https://")
}

data "aws_iam_policy_document" "trust" {
  statement {
    effect  = "Allow"
    actions = ["sts:AssumeRoleWithWebIdentity"]

    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }

    condition {
      test     = "StringEquals"
      variable = "${local.issuer_host}:aud"
      values   = ["sts.amazonaws.com"]
    }

    # StringLike only where a subject has a wildcard (a namespace's every service account).
    condition {
      test     = anytrue([for s in var.service_accounts : strcontains(s, "*")]) ? "StringLike" : "StringEquals"
      variable = "${local.issuer_host}:sub"
      values   = [for s in var.service_accounts : "system:serviceaccount:${s}"]
    }
  }
}

resource "aws_iam_role" "this" {
  name                 = var.role_name
  description          = var.description
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  max_session_duration = 3600
}

resource "aws_iam_role_policy" "this" {
  name   = var.role_name
  role   = aws_iam_role.this.id
  policy = var.policy_json
}
