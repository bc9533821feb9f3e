//! A small scalar-UDF builder shared by dap's function families: name, signature, return type,
//! optional coercion and an array-at-a-time body. Scalar arguments are expanded to arrays and a
//! call with only scalar arguments yields a scalar.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

/// Return type from argument types.
pub type ReturnFn = fn(&[DataType]) -> Result<DataType>;
/// Argument coercion for [`Signature::user_defined`] functions.
pub type CoerceFn = fn(&[DataType]) -> Result<Vec<DataType>>;
/// The body: argument arrays (all of the same length) and the return type.
pub type EvalFn = Arc<dyn Fn(&[ArrayRef], &DataType) -> Result<ArrayRef> + Send + Sync>;

/// A scalar function built from plain function pointers.
pub struct Udf {
    name: String,
    aliases: Vec<String>,
    signature: Signature,
    coerce: Option<CoerceFn>,
    ret: ReturnFn,
    eval: EvalFn,
}

impl std::fmt::Debug for Udf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Udf").field("name", &self.name).finish()
    }
}

impl PartialEq for Udf {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.signature == other.signature
    }
}

impl Eq for Udf {}

impl Hash for Udf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
    }
}

impl Udf {
    /// A function with user-defined coercion (`coerce`).
    pub fn new(
        name: &str,
        coerce: CoerceFn,
        ret: ReturnFn,
        eval: impl Fn(&[ArrayRef], &DataType) -> Result<ArrayRef> + Send + Sync + 'static,
    ) -> Self {
        Udf {
            name: name.to_string(),
            aliases: Vec::new(),
            signature: Signature::user_defined(Volatility::Immutable),
            coerce: Some(coerce),
            ret,
            eval: Arc::new(eval),
        }
    }

    /// A function with an explicit signature.
    pub fn with_signature(
        name: &str,
        signature: Signature,
        ret: ReturnFn,
        eval: impl Fn(&[ArrayRef], &DataType) -> Result<ArrayRef> + Send + Sync + 'static,
    ) -> Self {
        Udf {
            name: name.to_string(),
            aliases: Vec::new(),
            signature,
            coerce: None,
            ret,
            eval: Arc::new(eval),
        }
    }

    /// Another name for the function.
    pub fn alias(mut self, alias: &str) -> Self {
        self.aliases.push(alias.to_string());
        self
    }

    /// The registered function.
    pub fn build(self) -> Arc<ScalarUDF> {
        Arc::new(ScalarUDF::new_from_impl(self))
    }
}

impl ScalarUDFImpl for Udf {
    fn name(&self) -> &str {
        &self.name
    }

    fn aliases(&self) -> &[String] {
        &self.aliases
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        (self.ret)(arg_types)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match self.coerce {
            Some(c) => c(arg_types),
            None => Ok(arg_types.to_vec()),
        }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let all_scalar = args
            .args
            .iter()
            .all(|v| matches!(v, ColumnarValue::Scalar(_)));
        let rows = if all_scalar { 1 } else { args.number_rows };
        let arrays: Vec<ArrayRef> = args
            .args
            .iter()
            .map(|v| v.to_array(rows))
            .collect::<Result<_>>()?;
        let out = (self.eval)(&arrays, args.return_field.data_type())?;
        if all_scalar {
            Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
        } else {
            Ok(ColumnarValue::Array(out))
        }
    }
}
